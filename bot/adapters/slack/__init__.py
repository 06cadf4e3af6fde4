"""The Slack adapter: slack-bolt listeners that turn Slack payloads into Commands and render the replies."""
