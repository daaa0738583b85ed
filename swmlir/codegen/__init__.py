"""The emit stage: kernel C, host C, headers, weights file and build files for one compiled model."""
