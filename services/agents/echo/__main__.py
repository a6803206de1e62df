"""`AGENTBUS_ECHO_AGENT=bench_a python -m services.agents.echo`: run an echo agent until SIGTERM."""

from services.agents.echo.agent import agent

if __name__ == "__main__":
    agent.run()
