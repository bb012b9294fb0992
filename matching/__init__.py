"""DOL/USCIS disclosure data: loaders, employer entities, the employer join and sponsorship tags."""
