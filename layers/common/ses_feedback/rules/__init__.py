"""Pure decisions: feedback policy, manual add / lift / import verdicts, the sending guard. No I/O."""
