"""The contract between the studio and the model: the one package both processes import.

Standard library only (no numpy, no torch, no Qt, no pydantic), so the GUI process can read the
prompt vocabulary and check a request without loading the model, and the worker can speak the wire
protocol without importing the studio.
"""
