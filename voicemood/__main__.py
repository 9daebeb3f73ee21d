from voicemood.cli import main

raise SystemExit(main())
