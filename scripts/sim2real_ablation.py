#!/usr/bin/env python
"""Sim-to-real ablation in one command (thin wrapper over ``simvision.cli.sim2real``; Hydra overrides
as arguments). Example, traffic cones (real: the Roboflow cone photos in ../shared/data/real):

    python scripts/sim2real_ablation.py synthetic.path=out/cones_dataset class_names=[traffic_cone] \
        real_train.path=../shared/data/real/traffic_cones/valid real_test.path=../shared/data/real/traffic_cones/test \
        'real_train.aliases={cone: traffic_cone, road-cone: traffic_cone}' \
        model.backbone=efficientnet_lite0 model.backbone_weights=package ablation.k=[8,16]
"""

from simvision.cli.sim2real import main

if __name__ == "__main__":
    main()
