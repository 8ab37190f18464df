"""A third-party check plugin, installed by the tests the way a team would install theirs."""
