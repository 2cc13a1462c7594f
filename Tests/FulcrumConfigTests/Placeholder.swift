// The configuration tests land with the configuration model.
