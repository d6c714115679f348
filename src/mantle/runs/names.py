"""Run names for people: what the user gave, or `adjective_scientist` as Nextflow makes them
(the names are easy to say in a lab meeting; they need not be unique, the short id is)."""

from __future__ import annotations

import random

ADJECTIVES = (
    "agitated", "amazing", "angry", "awesome", "berserk", "boring", "clever", "cranky",
    "curious", "dreamy", "eager", "ecstatic", "elegant", "fervent", "festive", "focused",
    "friendly", "gallant", "gigantic", "goofy", "happy", "hopeful", "jolly", "jovial",
    "kickass", "lonely", "loving", "magical", "modest", "nasty", "nostalgic", "pedantic",
    "peaceful", "prickly", "reverent", "romantic", "sad", "serene", "sharp", "silly",
    "sleepy", "stoic", "suspicious", "tender", "thirsty", "tiny", "trusting", "zen",
)  # fmt: skip
SCIENTISTS = (
    "avery", "babbage", "bardeen", "bell", "blackburn", "brenner", "carson", "chargaff",
    "crick", "curie", "darwin", "doudna", "elion", "franklin", "goodall", "hodgkin",
    "hopper", "jenner", "koch", "lamarr", "leakey", "lederberg", "lovelace", "margulis",
    "mcclintock", "meitner", "mendel", "monod", "noether", "pasteur", "pauling", "sanger",
    "snow", "turing", "venter", "watson", "wilkins", "yalow",
)  # fmt: skip


def generated_name(rng: random.Random | None = None) -> str:
    pick = rng or random.SystemRandom()
    return f"{pick.choice(ADJECTIVES)}_{pick.choice(SCIENTISTS)}"
