"""The project's release process (issue 17): the desk's bundles as a signed TUF repository,
made with tufup (archives, binary patches from the version before, metadata signed with
offline keys — root, targets — and online ones — snapshot, timestamp). Keys never sit in the
repository: the release manager keeps the offline keys on removable media and names the
folders on the command line. The county mirrors the repository as it is
(``township-county updates import``). Not shipped in the desk or the county server."""
