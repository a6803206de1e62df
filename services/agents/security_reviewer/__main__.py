"""`python -m services.agents.security_reviewer`: run the security reviewer until SIGTERM."""

from services.agents.security_reviewer.agent import agent

if __name__ == "__main__":
    agent.run()
