"""ipywidgets front ends, one per task. They hold no logic: every button calls the
same public function a script or test would call."""
