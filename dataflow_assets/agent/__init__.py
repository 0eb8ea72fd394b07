"""The DataFlow-Agent: a request in plain words becomes a validated, runnable pipeline module.

Not a domain of pipelines: pipeline discovery walks this package like the others, so every module here imports
cheaply and defines no ``Pipeline``; LangGraph is imported only when a graph is built (:mod:`.graph`). The entry
point is :func:`dataflow_assets.agent.api.build_pipeline`.
"""
