package dev.mmspark.common.config;

import dev.mmspark.common.ExitCode;
import dev.mmspark.common.MmsparkException;

/** An invalid configuration key or value. The message names the key path and the value found. */
public class ConfigException extends MmsparkException {
    public ConfigException(String message) {
        super(ExitCode.BAD_CONFIG, message);
    }
}
