"""Text as the index sees it: which language it is in and its stems (`language`), its sentences
(`sentences`, the one splitter that retrieval's rerank, the answerer and the support check share),
and its chunks (`chunking`)."""
