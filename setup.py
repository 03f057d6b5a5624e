"""Redes: Landsat -> Sentinel-2 super-resolution as a TFX pipeline.

Dependencies are pinned in requirements/requirements.lock and installed by `make install`; install_requires
names the direct ones so that `pip install .` in another environment pulls a compatible set.
"""
from setuptools import find_packages, setup

setup(
    name="redes",
    version="0.1.0",
    description="Super-resolve the Landsat archive to Sentinel-2 detail with a TFX pipeline",
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["redes", "redes.*", "pipeline", "pipeline.*", "components",
                                    "components.*", "models", "models.*", "system"]),
    package_data={"redes.publish": ["templates/*.html"]},
    entry_points={"console_scripts": ["redes = pipeline.cli:main"]},
    install_requires=[
        "tfx==1.21.0",
        "tensorflow==2.21.0",
        "tensorflow-model-analysis==0.52.0",
        "apache-beam",
        "earthengine-api",
        "kfp>=2.6,<2.17",
        "rasterio",
        "morecantile",
        "rio-tiler",
        "pystac",
        "imageio",
        "imageio-ffmpeg",
        "XStatic-Leaflet==1.9.3.0",
        "pillow",
        "scikit-image",
        "tqdm",
    ],
)
