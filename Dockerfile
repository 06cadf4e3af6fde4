FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY migrations ./migrations
RUN pip install --no-cache-dir -e ".[postgres]"
RUN useradd --create-home floorboard && mkdir -p /data && chown floorboard /data
USER floorboard
ENV FLOORBOARD_DATABASE_URL=sqlite:////data/floorboard.db FLOORBOARD_WEB_HOST=0.0.0.0
EXPOSE 8080
CMD ["sh", "-c", "floorboard db upgrade && floorboard run --host 0.0.0.0 --port 8080"]
