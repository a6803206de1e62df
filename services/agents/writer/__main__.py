"""`python -m services.agents.writer`: run the writer until SIGTERM."""

from services.agents.writer.agent import agent

if __name__ == "__main__":
    agent.run()
