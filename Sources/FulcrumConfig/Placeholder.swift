/// Placeholder until the configuration model lands.
enum FulcrumConfigPlaceholder {}
