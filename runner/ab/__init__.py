"""`python -m runner.ab`: is the candidate slower than the baseline? A paired A/B that decides.

Both apps are served side by side on the server core, and k6 (on its own core) alternates short
blocks of load between them in ABBA order, each block after a short warmup: slow drift of the
machine (steal, CPU speed) covers both halves of a pair and cancels in its ratio. After each pair
the run decides: slower, faster, the same within the margin, or more pairs; at the budget,
inconclusive. Every block is judged by the step validity rules, and a pair with a disturbed half
is measured again. docs/your-app.md says when to use it rather than runner.compare.

Exit statuses, as runner.compare: 0 the same or faster, 1 slower, 3 inconclusive at the budget,
2 refused (bad input, a side that does not answer the check, a client-bound baseline);
130/143 interrupted.
"""
