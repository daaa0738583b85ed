"""Analyses of the IR that passes and the file writers both read, so neither imports the other.

`memory_plan`: the host's arena, offsets shared by lifetime (sunway-host-to-emitc, sunway-host-to-athread-calls).
`weights`: the weights file's layout (offsets, alignment) from the host's memref.globals and their resources; the
weights file and its manifest are written from the same layout.
"""
