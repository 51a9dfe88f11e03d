"""One job from request to sink, with no terminal and no signal handling in it."""
