"""`python -m services.agents.publisher`: run the publisher until SIGTERM."""

from services.agents.publisher.agent import agent

if __name__ == "__main__":
    agent.run()
