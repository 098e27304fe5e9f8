"""xinyong: nightly pipeline for the provincial public credit information platform."""
