"""Writes a tree document for the transfer benchmarks of scripts/bench.sh and
scripts/bench/transfer.sh.

The tree has an outcome, 50 opportunities with 4 opportunities each, 10 solutions under each
of those, and experiments under the solutions until it has NODES nodes. 500 evidence items
and 2,000 links to the solutions come with it.

Usage: python3 scripts/bench/tree_document.py PATH NODES
"""

import json
import sys


def main():
    path, target = sys.argv[1], int(sys.argv[2])
    nodes = [{"ref": "n0", "parent_ref": None, "kind": "outcome", "title": "Transfer outcome"}]

    def add(parent, kind, title):
        nodes.append({"ref": "n%d" % len(nodes), "parent_ref": parent, "kind": kind,
                      "title": title, "description": "Generated for the transfer benchmark"})
        return nodes[-1]["ref"]

    solutions = []
    for top in range(50):
        top_ref = add("n0", "opportunity", "Opportunity %d" % top)
        for sub in range(4):
            sub_ref = add(top_ref, "opportunity", "Opportunity %d.%d" % (top, sub))
            for solution in range(10):
                title = "Solution %d.%d.%d" % (top, sub, solution)
                solutions.append(add(sub_ref, "solution", title))
    index = 0
    while len(nodes) < target:
        add(solutions[index % len(solutions)], "experiment", "Experiment %d" % index)
        index += 1

    evidence = [{"ref": "e%d" % i, "kind": "interview_snippet", "title": "Interview %d" % i,
                 "content": "The team lead rebuilds the rota every week. " * 10}
                for i in range(500)]
    links = [{"node_ref": solutions[i % len(solutions)], "evidence_ref": "e%d" % (i % 500),
              "relation": "supports"} for i in range(2000)]
    document = {"format": "ost-linker/tree", "version": 1,
                "tree": {"title": "Transfer benchmark", "description": ""},
                "nodes": nodes, "evidence": evidence, "links": links}
    with open(path, "w") as out:
        json.dump(document, out)


if __name__ == "__main__":
    main()
