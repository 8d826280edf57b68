"""3D skeleton drawing."""
