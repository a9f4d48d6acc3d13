"""The business view: services and tier policies (`model`, `estate`), drill results per
service (`results`), coverage (`coverage`, `report`), root cause to service
(`attribution`) and the static dashboard (`dashboard`, `pages`)."""
