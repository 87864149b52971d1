"""Chinese-like case texts for the originality tests: unrelated cases, shared boilerplate, planted copies."""
from __future__ import annotations

import random
from typing import Any

POOL = [chr(c) for c in range(0x4E00, 0x4E00 + 2500)]
BOILERPLATE = [
    "为深入贯彻落实党的二十大精神，推动机关党建工作与业务工作深度融合。",
    "我单位坚持以习近平新时代中国特色社会主义思想为指导，全面加强党的建设。",
    "按照市直机关工委的统一部署，结合本单位实际，制定本工作方案。",
    "坚持以人民为中心的发展思想，着力解决群众急难愁盼问题。",
]


class Texts:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def sentence(self) -> str:
        rng = self.rng
        body = "".join(rng.choice(POOL) for _ in range(rng.randint(8, 14)))
        return body + "，" + "".join(rng.choice(POOL) for _ in range(rng.randint(6, 12))) + rng.choice("。。；！")

    def paragraph(self, sentences: int) -> str:
        return "".join(self.sentence() for _ in range(sentences))

    def case(self, boilerplate: int = 3) -> dict[str, Any]:
        """A case whose background opens with the standard sentences (about a third of its text)."""
        return {"title": "".join(self.rng.choice(POOL) for _ in range(10)),
                "background": "".join(BOILERPLATE[:boilerplate]) + self.paragraph(2) + "\n" + self.paragraph(2),
                "innovations": [self.paragraph(2), self.paragraph(2)],
                "results": [self.paragraph(2)]}

    def edit(self, text: str) -> str:
        """Of every 4 sentences: one rewritten, one with a two-character word replaced, two kept."""
        from chalicelib.domain.originality import split_sentences
        out = []
        for n, s in enumerate(split_sentences(text)):
            if s in BOILERPLATE or n % 4 in (0, 2):
                out.append(s)
            elif n % 4 == 3:
                out.append(self.sentence())
            else:
                middle = len(s) // 2
                out.append(s[:middle] + self.rng.choice(POOL) + self.rng.choice(POOL) + s[middle + 2:])
        return "".join(out)

    def near_copy(self, case: dict[str, Any]) -> dict[str, Any]:
        """Edited sentences, the background's paragraphs and the innovations in reverse order, a new title."""
        paragraphs = case["background"].split("\n")
        return {"title": case["title"][:4] + "".join(self.rng.choice(POOL) for _ in range(6)),
                "background": "\n".join(self.edit(p) for p in reversed(paragraphs)),
                "innovations": [self.edit(x) for x in reversed(case["innovations"])],
                "results": [self.edit(x) + self.sentence() for x in case["results"]]}
