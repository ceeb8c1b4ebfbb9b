"""Exact and near-duplicate removal (CONTRACT STUB: the dedupe helper replaces the bodies).

Public API other modules rely on (keep these names and signatures):

- DedupeConfig                      pydantic model (extra="forbid"): threshold=0.8, num_perm, bands,
                                    ngram_cjk, ngram_word, keep="first"|"longest", fields=(...)
- exact_dedupe(ledger, fields=TEXT_FIELDS) -> Stage          stage name "exact_dedupe", reason "exact_duplicate"
- near_dedupe(ledger, config, against=None) -> Stage         stage name "near_dedupe", reason "near_duplicate"
                                    (reason "copies_reference" when the survivor is in `against`);
                                    each reject carries dup_of=<id of the kept record>
- near_duplicate_clusters(texts: list[str], config=None) -> list[int]
                                    cluster label per text (equal label = near-duplicates); used by export
- NoveltyIndex(config)              incremental: .add(text, key) and .query(text) -> (key, similarity) | None;
                                    used by `generate` to reject items too close to seeds / earlier items
- dedupe_file(inputs, output, *, rejects=None, config=None, against=(), read_options=None, stats=None) -> dict
"""
