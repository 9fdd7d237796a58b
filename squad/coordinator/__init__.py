"""The coordinator: snapshot of the squad (state), pure rules, the watcher and the daemon.

Importing this package imports nothing heavy; the watcher pulls in watchdog only when used.
"""
