"""`python -m services.agents.synthesiser`: run the synthesiser until SIGTERM."""

from services.agents.synthesiser.agent import agent

if __name__ == "__main__":
    agent.run()
