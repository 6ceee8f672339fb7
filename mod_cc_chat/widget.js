/* The chat widget: written in its own change. */
