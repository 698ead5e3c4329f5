/// SiteSetup: `courier init`.
public enum SiteSetupInfo {}
