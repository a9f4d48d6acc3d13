"""The business view: services and tier policies (`model`, `estate`), drill results per
service (`results`), coverage (`coverage`, `report`), root cause to service
(`ownership`: the pure rules the scorecard folds with; `attribution`: against a loaded
services file) and the static dashboard (`dashboard`, `pages`)."""
