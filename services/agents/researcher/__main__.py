"""`python -m services.agents.researcher`: run the researcher until SIGTERM."""

from services.agents.researcher.agent import agent

if __name__ == "__main__":
    agent.run()
