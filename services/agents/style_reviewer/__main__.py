"""`python -m services.agents.style_reviewer`: run the style reviewer until SIGTERM."""

from services.agents.style_reviewer.agent import agent

if __name__ == "__main__":
    agent.run()
