"""Channel adapters: the only modules that speak Telegram, Twilio or the terminal."""
