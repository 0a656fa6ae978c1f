"""Label formats defined outside simvision, to prove a new format needs no edit to simvision."""
