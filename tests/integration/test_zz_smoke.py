import logging
from tests.conftest import make_app
from tests.fakes.discord_harness import running_client, GUILD
from tests.unit.test_handlers_world import seed

async def test_smoke(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    url = f"sqlite:///{tmp_path/'x.db'}"
    app = make_app(url); seed(app); app.close()
    async with running_client(url) as h:
        ex = await h.command("help", user=("1800000000000000001", "martha"))
        for c in h.fake.calls:
            print(c.method, c.path, c.status, str(c.body)[:300], c.errors[:3])
