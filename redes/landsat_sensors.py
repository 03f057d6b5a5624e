"""The Landsat sensors Redes trains for, as seen against Sentinel-2 MSI: one table of ranges with their sources,
the reference degradation and the fixed robustness variants (parameters only; redes.ingest.degradation applies them).

Used by the Trainer (ranges drawn per example), ImageEvaluator (VARIANTS), the flags (SENSOR_NAMES), the exported
model's redes_model.json (training_record) and TileGen and `redes tiles` (which sensors a frame may come from,
frame_sensors, and whether the model was trained for one of them, outside_training).
Units: point-spread widths and shifts in 10 m pixels, noise, quantisation steps and offsets in reflectance.
The PSF width is the blur Landsat adds to what MSI already has: sigma = sqrt(sigma_landsat^2 - sigma_msi^2), where a
sensor's sigma (in its own pixels) follows from its modulation transfer function at Nyquist,
MTF = sinc(1/2) * exp(-pi^2 sigma^2 / 2), and sigma_msi is about 0.44 10 m pixels (MSI 10 m bands, MTF at Nyquist
about 0.25). The ranges below are those sigmas, widened a little for the resampling to the UTM grid.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class SensorModel:
  """Ranges, drawn uniformly in training, of one Landsat sensor seen against Sentinel-2 MSI."""
  name: str
  landsats: tuple          # the satellites carrying it
  psf_sigma: tuple         # (low, high) Gaussian PSF width, 10 m pixels, relative to MSI's own
  noise: tuple             # (low, high) noise standard deviation, reflectance
  step: tuple              # (low, high) quantisation step, reflectance
  gain: tuple              # (low, high) per band
  offset: tuple            # (low, high) per band, reflectance
  sources: str


# MTF values are those at Nyquist, reported per band and direction.
SENSORS = {s.name: s for s in [
    SensorModel(
        "tm", ("landsat4", "landsat5"), psf_sigma=(1.2, 1.6), noise=(0.001, 0.0025), step=(0.002, 0.0035),
        gain=(0.95, 1.05), offset=(-0.01, 0.01),
        sources="MTF at Nyquist about 0.15-0.25 (Markham 1985, IEEE TGRS 23(6), The Landsat sensors' spatial "
                "responses); 8-bit quantisation over 0.5-0.9 full-scale reflectance, noise about 0.5-1 DN (Markham "
                "and Helder 2012, RSE 122, Forty-year calibrated record of earth-reflected radiance from Landsat); "
                "residual TM/ETM+ to OLI/MSI differences after cross-calibration of a few percent (Roy et al. "
                "2016, RSE 185, Characterization of Landsat-7 to Landsat-8 reflective wavelength and NDVI "
                "continuity)"),
    SensorModel(
        "etm", ("landsat7",), psf_sigma=(1.1, 1.5), noise=(0.0008, 0.002), step=(0.0015, 0.003),
        gain=(0.95, 1.05), offset=(-0.01, 0.01),
        sources="MTF at Nyquist about 0.18-0.28 (Storey 2001, Proc. SPIE 4540, Landsat 7 on-orbit modulation "
                "transfer function estimation); 8-bit quantisation, low and high gain settings (Markham and Helder "
                "2012); radiometric differences as for TM (Roy et al. 2016)"),
    SensorModel(
        "oli", ("landsat8", "landsat9"), psf_sigma=(0.75, 1.3), noise=(0.0002, 0.0006), step=(0.00025, 0.0003),
        gain=(0.97, 1.03), offset=(-0.005, 0.005),
        sources="MTF at Nyquist about 0.25-0.40 (Knight and Kvaran 2014, Remote Sensing 6(11), Landsat-8 "
                "Operational Land Imager design, characterization and performance); 12-bit quantisation and "
                "signal-to-noise ratios of 200-400 at typical radiance (Morfitt et al. 2015, Remote Sensing 7(2), "
                "Landsat-8 OLI radiometric performance on-orbit); OLI to MSI bandpass adjustment slopes and "
                "intercepts within a few percent and 0.005 (Claverie et al. 2018, RSE 219, The Harmonized Landsat "
                "and Sentinel-2 surface reflectance data set)"),
]}
SENSOR_NAMES = tuple(SENSORS)
# How the Trainer makes its inputs: sensors (drawn per example from the SENSORS ranges) or reference (as stored).
DEGRADATIONS = ("sensors", "reference")
# Sub-pixel misregistration, every sensor: up to half a 30 m pixel in any direction. Landsat Collection 2 and
# Sentinel-2 each locate pixels to about 10-12 m; their relative offsets reached 38 m before Sentinel-2 was tied to
# its Global Reference Image (Storey et al. 2016, RSE 186, A note on the temporary misregistration of Landsat-8 OLI
# and Sentinel-2 MSI imagery).
MAX_SHIFT_LR_PIXELS = 0.5
# The share of training inputs drawn without noise and quantisation (every other parameter drawn as usual). Skipping
# a degradation at random is how blind super-resolution covers inputs cleaner than its noisiest draws (Zhang et al.
# 2021, ICCV, Designing a practical degradation model for deep blind image super-resolution; Wang et al. 2021, ICCVW,
# Real-ESRGAN). Without it, a blind model smooths every input for the noise it may carry, and loses the detail of
# the cleaner ones (bench/robustness.py measures both sides).
CLEAN_FRACTION = 0.25
PSF_SIGMA_MAX = 2.0            # 10 m pixels; the widest PSF any variant or range uses


@dataclasses.dataclass(frozen=True)
class Degradation:
  """The parameters of one degradation (see the module docstring); per-band values may be tuples."""
  psf_sigma: float = 1.2
  shift: tuple = (0.0, 0.0)      # (dy, dx), 10 m pixels
  gain: float | tuple = 1.0
  offset: float | tuple = 0.0
  noise: float = 0.0
  step: float = 0.0


# What PatchExampleGen stores for the demo source, and what the original system trained on: a Gaussian PSF of 1.2
# 10 m pixels (an OLI-like MTF of about 0.3 at Nyquist) and the block mean, nothing else.
REFERENCE = Degradation()
# The fixed variants ImageEvaluator scores every model under, beside the test split's own input. Noise is seeded
# per patch (variant_inputs), so every run scores the same inputs.
VARIANTS = {
    "psf_sharp": Degradation(psf_sigma=0.8),
    "psf_soft": Degradation(psf_sigma=1.8),
    "shift": Degradation(shift=(0.5, 1.0)),
    "noise_tm": Degradation(psf_sigma=1.4, noise=0.002, step=0.0025),
    "noise_oli": Degradation(psf_sigma=1.1, noise=0.0004, step=0.00025),
    "gain": Degradation(gain=(1.03, 0.97, 1.02, 0.98), offset=(0.005, -0.005, 0.004, -0.004)),
    "tm_archive": Degradation(psf_sigma=1.45, shift=(-0.5, 1.0), gain=(1.02, 0.98, 1.03, 0.97),
                              offset=(-0.005, 0.004, -0.004, 0.005), noise=0.002, step=0.0025),
}


def sensor_models(names) -> tuple[SensorModel, ...]:
  """The SensorModels of a list of names; ValueError (one line) for an unknown one."""
  unknown = [n for n in names if n not in SENSORS]
  if unknown or not names:
    raise ValueError(f"unknown sensor(s) {unknown or names!r}; expected names among {', '.join(SENSOR_NAMES)}")
  return tuple(SENSORS[n] for n in names)


def training_record(degradation: str, sensors, synthetic: bool) -> dict:
  """What a model was trained for, as redes_model.json records it: the degradation mode, the share of inputs left
  without noise and, per sensor, the ranges its training inputs were drawn from (synthetic inputs) or the noise added
  to the real ones."""
  if degradation == "reference":
    return {"degradation": "reference", "sensors": {"oli": {"psf_sigma": [REFERENCE.psf_sigma] * 2}}}
  kept = ("psf_sigma", "noise", "step", "gain", "offset") if synthetic else ("noise", "step")
  record = {"degradation": degradation, "synthetic_inputs": synthetic, "clean_fraction": CLEAN_FRACTION,
            "sensors": {s.name: {k: list(getattr(s, k)) for k in kept} for s in sensors}}
  if synthetic:
    record["max_shift_lr_pixels"] = MAX_SHIFT_LR_PIXELS
  return record


def frame_sensors(label: str, instrument: str = "landsat") -> tuple[str, ...]:
  """The sensors a frame may come from: one satellite's (instrument landsat4 ... landsat9), else those in service
  in the frame's year (TM 1982-2012, ETM+ from 1999, OLI from 2013, as the original's year windows), and OLI for a
  frame not named by a year (the demo scene, Landsat 8)."""
  if instrument != "landsat":
    return tuple(s.name for s in SENSORS.values() if instrument in s.landsats)
  if not label.isdigit():
    return ("oli",)
  year = int(label)
  return tuple(name for name, first, last in (("tm", 1982, 2012), ("etm", 1999, 9999), ("oli", 2013, 9999))
               if first <= year <= last)


def outside_training(trained_for: dict | None, sensors) -> str | None:
  """A sentence when none of a frame's possible sensors is one the model was trained for; None when one is, or
  when the model records nothing (the bicubic baseline)."""
  if not trained_for:
    return None
  trained = trained_for["sensors"]
  if set(trained) & set(sensors):
    return None
  return (f"its sensor ({' or '.join(sensors)}) lies outside those the model was trained for "
          f"({', '.join(trained)}, {trained_for['degradation']} degradation)")
