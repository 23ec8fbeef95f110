"""The engine's rules, grouped by the policy section they implement."""
