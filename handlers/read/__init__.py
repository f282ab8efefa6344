"""Read models: progress arithmetic (forecast), how values and statuses are shown, the digest's
numbers and text, and the charts built from them."""
