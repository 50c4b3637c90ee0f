"""Ad platforms: the adapters (one module each), the outbox of status pushes and the sync.

``base`` holds the one interface every adapter implements; ``outbox`` writes and delivers
pushes; ``sync`` pulls spend and statuses back.
"""
