"""`python -m services.agents.tests_reviewer`: run the tests reviewer until SIGTERM."""

from services.agents.tests_reviewer.agent import agent

if __name__ == "__main__":
    agent.run()
