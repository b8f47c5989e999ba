"""The weekly report for the food-project team: sections built from the stored week."""
