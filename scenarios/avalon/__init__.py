"""The Resistance: Avalon, standard rules, 5 to 10 players.

Good (Merlin, Percival, loyal servants of Arthur) against evil (the Assassin, Morgana,
Mordred, Oberon, minions of Mordred). At the start the evil players see each other (except
Oberon, who sees none of them and whom none of them sees), Merlin sees every evil player
except Mordred, and Percival sees Merlin and Morgana without knowing which is which.

A round is a quest (five at most). The leader (rotating in seat order from a seeded random
seat) proposes a team of the quest's size; every player speaks once about it; everyone
privately reports P(evil) for the others; then everyone votes in public to approve or
reject it (a strict majority approves). Five rejected teams in a row: evil wins. An
approved team plays secret quest cards (good players can only play success); one fail card
fails the quest, except the fourth quest with seven or more players, which needs two. Only
the number of fail cards is announced. Three failed quests: evil wins. Three successful
quests: the Assassin names one player, and evil wins if that player is Merlin. Evil players
may also be asked, privately, how likely each player is to be Merlin (after each quest, or
only before the assassination), so the analysis can see how early evil finds Merlin.

The package: ``table`` (roles, sides, quest sizes, words), ``kinds`` (action and event
kinds), ``config``, ``state``, ``describe`` (the rules in words), ``rules`` (dealing and
the phase table), ``referee`` (judging and auditing) and ``heuristic`` (the scripted player).
"""

from scenarios.avalon.config import AvalonConfig
from scenarios.avalon.heuristic import AvalonHeuristic
from scenarios.avalon.rules import Avalon
from scenarios.avalon.state import AvalonState

__all__ = ["Avalon", "AvalonConfig", "AvalonHeuristic", "AvalonState"]
