"""GPT-2's initialisation of the residual path (Radford et al. 2019): the last matrix of each
branch, the one whose output joins the residual stream, scaled by 1/√(2N), N the number of blocks
(docs/methods.md#gpt-2s-residual-initialisation)."""
from .base import Fix, matrices, positive, reached


def last_matrix(y, weights, limit=20000):
    """Of `weights`, the one nearest `y` in its autograd graph (breadth first): the projection
    that wrote y. None if none is reached within `limit` nodes."""
    ids = {id(w): w for w in weights}
    level, seen = [y.grad_fn], set()
    while level and len(seen) < limit:
        found, following = [], []
        for node in level:
            if node is None or node in seen:
                continue
            seen.add(node)
            var = getattr(node, "variable", None)
            if var is not None and id(var) in ids:
                found.append(ids[id(var)])
            following += [n for n, _ in node.next_functions]
        if found:
            return found[0]
        level = following
    return None


class GPT2Init(Fix):
    name, points, paper = "gpt2_init", ("init",), "GPT-2 (Radford et al. 2019)"
    defaults = {"gain": None}

    def initialise(self, block, record, site):
        gain = positive(self, "gain", (2 * site["depth"]) ** -0.5)
        weights = matrices(block)
        last = [last_matrix(y, weights) for y in record["branches"]]
        if not last or None in last:
            raise ValueError(f"sigprop.apply: gpt2_init scales the matrix that writes each branch "
                             f"into the residual stream, and {site['where']} showed "
                             + ("no branch joining the stream" if not last else
                                "a branch written by no matrix of the block"))
        parts = [reached([y], [w])[0] for y, w in zip(record["branches"], last)]

        def draw():
            for w, part in zip(last, parts):
                w[part] *= gain  # of a matrix shared with other outputs, y's entries only
        return draw
