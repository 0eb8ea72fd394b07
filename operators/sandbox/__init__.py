"""What operators see of the code sandbox: the ``Sandbox`` protocol (``resources.sandbox`` implements it)."""
