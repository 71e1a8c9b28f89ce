"""What every domain uses at run time: the typed services container, runtime settings, the active
vector index and its embedders, chat model clients, audit records.

Imports go downward only: `platform` may import `core` and `providers`, never a domain
(auth, documents, chats, rag, ingestion, admin)."""
