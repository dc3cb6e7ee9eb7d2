"""The Blender side of orient-jax: a synthetic, labelled image dataset.

Runs in its own virtual environment (``.render-venv``: ``bpy`` pins ``numpy<2``).
Only ``asset``, ``scene`` and ``worker`` import ``bpy``, and they import it lazily;
every other module here needs nothing beyond the standard library and numpy, so the
main venv's tests can import them too. The dataset format itself (shard files,
manifest, validation) is defined once, in ``orient_jax.dataset``.

    python -m render render --preset quick          # render (or resume) data/quick
    python -m render render --preset full --start 0 --stop 11520 --out data/full-a
    python -m render merge --out data/full data/full-a data/full-b
    python -m render verify data/quick
    python -m render export-glb                     # web/public/models/object.glb
"""
