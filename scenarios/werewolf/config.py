"""Werewolf's rule options: Werewolf Arena's by default, Kaggle Game Arena's in its presets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from scenarios.werewolf.words import (
    DOCTOR,
    SEER,
    VILLAGER,
    WEREWOLF,
)
from traitors.game.rules import RulesConfig

Order = Literal["fixed", "rotate", "random"]
"""Who goes first in a round-robin order: the first living seat in seating order (fixed),
the seat after last time's first (rotate), or a seeded random seat (random)."""
Reveal = Literal["nothing", "team", "role"]
"""What an exile or a night death shows everyone about the player."""


class WerewolfConfig(RulesConfig):
    """Rule options of Werewolf; defaults follow Werewolf Arena, and the ``werewolf_kaggle_*``
    presets set them to Kaggle Game Arena's rule configs."""

    n_players: int = Field(8, ge=4, le=20)
    """Players at the table."""
    n_werewolves: int = Field(2, ge=1)
    """Werewolves among them; they know each other."""
    seer: bool = True
    """Whether one villager is a seer, who learns one player's role each night."""
    seer_learns: Literal["role", "team"] = "role"
    """What the seer learns of the player they look at: the role, or only the team."""
    doctor: bool = True
    """Whether one villager is a doctor, who protects one player each night."""
    doctor_self_protect: bool = True
    """Whether the doctor may protect themself."""
    doctor_repeat: bool = True
    """Whether the doctor may protect the same player on consecutive nights."""
    doctor_learns_save: bool = False
    """Whether the doctor is told when their protection stopped the attack."""
    werewolf_talk: bool = True
    """Whether the werewolves speak (each once) in their channel before choosing a victim."""
    wolf_voting: Literal["simultaneous", "sequential"] = "simultaneous"
    """How the werewolves vote their victim: all at once, or one by one (each seeing the
    votes before theirs), in an order set by ``first_wolf``."""
    first_wolf: Order = "rotate"
    """Who votes first among the werewolves when ``wolf_voting`` is sequential."""
    kill_tie: Literal["random", "nobody"] = "random"
    """A werewolf vote without a single leader: a random pick among the leaders (among all
    villagers when nobody voted), or no attack that night."""
    discussion: Literal["bidding", "round_robin"] = "bidding"
    """How the day's speakers are chosen: by private bids (Werewolf Arena), or every living
    player in seat order, ``discussion_rounds`` times (Kaggle's round-robin)."""
    debate_turns: int = Field(8, ge=0)
    """Debate turns per day, each won by the highest bid (bidding discussion)."""
    max_bid: int = Field(4, ge=1)
    """Largest bid: 0 observe ... 4 addressed directly, must respond."""
    discussion_rounds: int = Field(2, ge=0)
    """Times every living player speaks each day (round-robin discussion)."""
    first_speaker: Order = "rotate"
    """Who speaks first each day in a round-robin discussion."""
    voting: Literal["simultaneous", "sequential"] = "simultaneous"
    """How the exile vote is cast: all at once, or one by one in seat order from
    ``first_voter``, each voter seeing the votes before theirs."""
    first_voter: Order = "rotate"
    """Who votes first in a sequential exile vote."""
    exile_rule: Literal["majority", "plurality"] = "majority"
    """majority: exile needs more than half of the votes cast; plurality: most votes."""
    exile_tie: Literal["nobody", "random"] = "nobody"
    """A plurality vote without a single leader: nobody is exiled, or a random pick among the
    leaders (among every living player when nobody voted)."""
    exile_reveals: Reveal = "nothing"
    """What the exiled player's exile shows: nothing, their team, or their role."""
    death_reveals: Reveal = "nothing"
    """What a night death shows: nothing, the victim's team, or their role."""
    belief_probe: bool = False
    """After the debate, every living player privately reports P(werewolf) for each other
    (not in Werewolf Arena; for the analysis' inference metrics)."""
    max_rounds: int = Field(10, ge=1)
    """Rounds (night + day) after which the game is a draw."""
    max_speech_chars: int = Field(600, ge=1)
    """Longest legal speech."""
    deal: tuple[str, ...] = ()
    """The roles in seat order, as dealt in a game played elsewhere (an imported one);
    empty: dealt at random from the seed."""
    draws: dict[str, str] = Field(default_factory=dict)
    """The outcomes of the rules' random draws in a game played elsewhere, by draw: the first
    of a random order (``order:debate:1``, ``order:exile:1``, ``order:kill:1``), a random
    tie-break (``pick:exile:2``, ``pick:kill:1``), a tied bid (``bid:1:0``). Taken instead of
    the seeded draw while it is among the options, so an imported game restores with its
    own draws (and a fork of it keeps them, as a fork keeps the rules' random stream)."""

    later_options: ClassVar[Mapping[str, Any]] = {
        "seer_learns": "role",
        "doctor_repeat": True,
        "doctor_learns_save": False,
        "wolf_voting": "simultaneous",
        "first_wolf": "rotate",
        "kill_tie": "random",
        "discussion": "bidding",
        "discussion_rounds": 2,
        "first_speaker": "rotate",
        "voting": "simultaneous",
        "first_voter": "rotate",
        "exile_tie": "nobody",
        "death_reveals": "nothing",
        "deal": [],
        "draws": {},
    }

    def id_options(self) -> dict[str, Any]:
        """As before these options: ``exile_reveals`` nothing/role hashed as the boolean
        ``reveal_on_exile`` it replaced."""
        options = super().id_options()
        if options["exile_reveals"] in ("nothing", "role"):
            options["reveal_on_exile"] = options.pop("exile_reveals") == "role"
        return options

    @model_validator(mode="before")
    @classmethod
    def _legacy_reveal(cls, data: Any) -> Any:
        """``reveal_on_exile: true|false`` (before ``exile_reveals``) still reads."""
        if isinstance(data, dict) and "reveal_on_exile" in data:
            data = dict(data)
            legacy = data.pop("reveal_on_exile")
            if "exile_reveals" in data:
                raise ValueError("give exile_reveals or reveal_on_exile, not both")
            data["exile_reveals"] = "role" if legacy else "nothing"
        return data

    @model_validator(mode="after")
    def _tie_rule_fits(self) -> WerewolfConfig:
        if self.exile_rule == "majority" and self.exile_tie == "random":
            raise ValueError(
                "exile_tie: random needs exile_rule: plurality (a majority has no tie)"
            )
        return self

    @model_validator(mode="after")
    def _roles_fit(self) -> WerewolfConfig:
        specials = self.n_werewolves + self.seer + self.doctor
        if specials > self.n_players or self.n_werewolves * 2 >= self.n_players:
            raise ValueError(
                f"{self.n_werewolves} werewolves (plus seer/doctor) do not fit {self.n_players} "
                "players; werewolves must be fewer than half"
            )
        table = [WEREWOLF] * self.n_werewolves + [SEER] * self.seer + [DOCTOR] * self.doctor
        table += [VILLAGER] * (self.n_players - len(table))
        if self.deal and sorted(self.deal) != sorted(table):
            raise ValueError(f"deal: {len(self.deal)} roles that are not this table's")
        return self

    def drawn(self, options: Sequence[str], *labels: object) -> str | None:
        """The recorded outcome of the draw ``labels`` (see ``draws``) if it is one of
        ``options``, else None (draw from the seed)."""
        got = self.draws.get(":".join(map(str, labels)))
        return got if got in options else None
