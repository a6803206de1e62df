"""`python -m services.agents.performance_reviewer`: run the performance reviewer until SIGTERM."""

from services.agents.performance_reviewer.agent import agent

if __name__ == "__main__":
    agent.run()
