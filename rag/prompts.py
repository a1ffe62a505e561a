"""Every fixed sentence the product says, in one place; tests assert these, not copies of them."""

REFUSAL = "The documents do not answer this."
NEAREST_INTRO = "Nearest passages:"
NO_INDEX_HINT = "no index yet; build one with: rag index build PATH..."
