"""Cloud providers Mantle talks to: today AWS (`cloud.aws`)."""
